#ifndef X_answer
#define X_answer
#endif
