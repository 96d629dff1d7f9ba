OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(2.9152582915103302) q[2];
cx q[2],q[1];
rx(3.1415790232902756) q[0];
ry(-3.1415884385454405) q[2];
cx q[2],q[0];
