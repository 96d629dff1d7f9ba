OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
rx(9.424777960769354) q[1];
ry(0.22613626569411338) q[1];
cx q[1],q[0];
