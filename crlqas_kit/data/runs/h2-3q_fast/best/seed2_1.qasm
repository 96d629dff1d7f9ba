OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(2.884253842966595) q[2];
cx q[2],q[0];
cx q[2],q[1];
ry(3.1347247077017886) q[2];
