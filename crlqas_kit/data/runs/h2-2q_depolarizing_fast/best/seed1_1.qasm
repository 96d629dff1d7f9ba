OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
ry(-2.9154563878956576) q[1];
cx q[1],q[0];
