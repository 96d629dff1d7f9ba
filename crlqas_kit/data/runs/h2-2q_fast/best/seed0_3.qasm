OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
rx(-2.9157337364297122) q[1];
cx q[1],q[0];
rz(-4.7189290498076915) q[1];
