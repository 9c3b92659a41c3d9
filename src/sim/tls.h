#ifndef SIM_TLS_H
#define SIM_TLS_H
#endif
