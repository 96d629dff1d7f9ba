OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
rx(3.1415924676994473) q[1];
ry(3.1415930260999683) q[0];
ry(-0.22593652012646628) q[2];
cx q[2],q[0];
cx q[2],q[1];
