OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(3.367746963485951) q[0];
cx q[0],q[1];
ry(3.1414905087055596) q[2];
cx q[1],q[2];
