OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
rx(3.3674056838312607) q[1];
cx q[1],q[0];
rz(7.846947752165355) q[1];
