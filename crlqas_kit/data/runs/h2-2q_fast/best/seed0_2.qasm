OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
rz(-0.5608159446725806) q[1];
ry(-2.915456387895656) q[1];
cx q[1],q[0];
