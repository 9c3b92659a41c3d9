#ifndef X_table
#define X_table
#endif
