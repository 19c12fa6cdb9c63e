/* Boot: UART, fault exceptions, threads, MPU guards, then the scheduler takes over. */
#include "app.h"
#include "board.h"
#include "fault.h"
#include "scheduler.h"
#include "uart.h"

int main(void)
{
    uart_init();
    uart_puts("dre-testfw " DRE_BOARD_NAME "\n");
    fault_init();
    app_create_threads();
    /* After the stacks are filled: the fill pattern covers the guard regions too. */
    mpu_init();
    scheduler_start();
}
