OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(-3.367755248123512) q[2];
cx q[2],q[1];
rx(-4.577700866978495e-07) q[0];
ry(3.141592598442219) q[2];
cx q[1],q[0];
