OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
rx(-3.14159280313656) q[1];
ry(3.1415928703537697) q[0];
ry(-0.2259365574973715) q[2];
cx q[2],q[0];
cx q[2],q[1];
