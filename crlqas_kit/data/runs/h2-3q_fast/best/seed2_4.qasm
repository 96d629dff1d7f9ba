OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
ry(2.915266980598681) q[2];
cx q[2],q[1];
rx(-3.1415047317075486) q[0];
ry(-3.141634732573574) q[2];
cx q[2],q[0];
