#ifndef DRE_UART_H
#define DRE_UART_H

#include <stdint.h>

void uart_init(void);
void uart_puts(const char *text);
void uart_put_hex(uint32_t value);

#endif
