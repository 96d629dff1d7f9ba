OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(-2.9154568063906177) q[0];
cx q[0],q[1];
ry(-3.141485762448901) q[2];
cx q[1],q[2];
