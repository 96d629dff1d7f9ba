OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(3.3675291451205123) q[1];
ry(-3.1415933803618947) q[0];
rx(-3.1415925884899982) q[2];
cx q[1],q[2];
cx q[2],q[0];
