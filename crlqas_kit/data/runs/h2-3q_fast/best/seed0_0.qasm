OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
rx(3.141592923106162) q[1];
ry(3.1415929607403106) q[0];
ry(-0.2259366216375331) q[2];
cx q[2],q[0];
cx q[2],q[1];
