OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(-2.915419754213888) q[0];
cx q[0],q[1];
ry(3.141488007731645) q[2];
cx q[1],q[2];
