OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(3.3677856351058284) q[0];
cx q[0],q[1];
ry(3.141502638526061) q[2];
cx q[1],q[2];
