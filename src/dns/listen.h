#ifndef X_listen
#define X_listen
#endif
