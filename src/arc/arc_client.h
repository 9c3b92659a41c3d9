#ifndef ARC_ARC_CLIENT_H
#define ARC_ARC_CLIENT_H
#endif
