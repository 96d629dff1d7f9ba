OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(3.3678090380830974) q[0];
cx q[0],q[1];
ry(3.141523110111187) q[2];
cx q[1],q[2];
