#ifndef RUNTIME_H
#define RUNTIME_H
#endif
