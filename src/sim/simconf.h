#ifndef SIM_SIMCONF_H
#define SIM_SIMCONF_H
#endif
