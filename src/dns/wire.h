#ifndef X_wire
#define X_wire
#endif
