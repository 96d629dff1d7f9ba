OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(6.341080597423044) q[0];
ry(3.3573089254269073) q[1];
rx(3.1431633601638684) q[2];
cx q[1],q[0];
cx q[0],q[2];
