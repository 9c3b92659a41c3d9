#ifndef X_zone
#define X_zone
#endif
