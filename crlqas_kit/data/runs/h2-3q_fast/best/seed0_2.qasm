OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
rx(3.141592808055888) q[1];
ry(3.1415928673451416) q[0];
ry(-0.22593658714116346) q[2];
cx q[2],q[0];
cx q[2],q[1];
