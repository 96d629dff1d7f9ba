OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(2.8900511008655565) q[2];
cx q[2],q[1];
cx q[1],q[0];
ry(3.135772150373155) q[2];
