OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
ry(-2.915456387895656) q[0];
cx q[0],q[1];
