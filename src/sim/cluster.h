#ifndef SIM_CLUSTER_H
#define SIM_CLUSTER_H
#endif
