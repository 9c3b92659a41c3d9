#ifndef X_yamltree
#define X_yamltree
#endif
