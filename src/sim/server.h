#ifndef SIM_SERVER_H
#define SIM_SERVER_H
#endif
