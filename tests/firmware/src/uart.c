/* Progress output on UART0, which QEMU connects to stdio with -nographic. */
#include "uart.h"

#include "board.h"

#define UART_STATE_TX_FULL (1u << 0)
#define UART_CTRL_TX_ENABLE (1u << 0)

void uart_init(void)
{
    UART0_BAUDDIV = 16; /* the smallest divider the CMSDK UART accepts */
    UART0_CTRL = UART_CTRL_TX_ENABLE;
}

static void uart_putc(char c)
{
    while (UART0_STATE & UART_STATE_TX_FULL) {
    }
    UART0_DATA = (uint32_t)(uint8_t)c;
}

void uart_puts(const char *text)
{
    while (*text != '\0') {
        uart_putc(*text++);
    }
}

void uart_put_hex(uint32_t value)
{
    static const char digits[] = "0123456789abcdef";

    uart_puts("0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
        uart_putc(digits[(value >> shift) & 0xFu]);
    }
}
