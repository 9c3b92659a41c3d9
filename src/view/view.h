#ifndef X_view
#define X_view
#endif
