"""Default in-app rules of the grouping configs from dre:2026-12-04 on.

Code that reports or schedules a crash is not where the bug is: an RTOS port and kernel,
CMSIS and vendor fault handlers, the Memfault SDK's fault and assert machinery, the C
library's assert and abort, and the assert hooks HALs call. Such frames neither title
nor fingerprint an issue. Names come from the projects' own sources: FreeRTOS's naming
convention (type prefix + module: xTaskCreate, vListInsert, prvIdleTask) and its GCC ARM
ports (port.c: xPortPendSVHandler, prvPortStartFirstTask, vPortEnableVFP,
prvTaskExitError); Zephyr's internal `z_` and `arch_` functions and public `k_` API;
CMSIS-Core's exception handler names (startup_<device>.s); the Memfault firmware SDK's
panics component (memfault/panics/fault_handling.h); newlib and picolibc (assert.h,
stdlib.h); STM32Cube (`assert_failed`), FreeRTOS demos (`vAssertCalled`), Zephyr
(`assert_post_action`).

A project takes any of them back with `+app:NAME`.
"""

from __future__ import annotations

from dre.crashes.grouping.rules import AppRule

_FREERTOS = (
    "FreeRTOS kernel",
    [
        "function:xTask* -app",
        "function:vTask* -app",
        "function:uxTask* -app",
        "function:ulTask* -app",
        "function:pcTask* -app",
        "function:pvTask* -app",
        "function:eTask* -app",
        "function:xQueue* -app",
        "function:vQueue* -app",
        "function:uxQueue* -app",
        "function:xSemaphore* -app",
        "function:vList* -app",
        "function:uxList* -app",
        "function:xTimer* -app",
        "function:vTimer* -app",
        "function:xEventGroup* -app",
        "function:xStreamBuffer* -app",
        "function:xMessageBuffer* -app",
        "function:prvIdleTask -app",
        "function:prvTimerTask -app",
        "function:prvProcessTimerOrBlockTask -app",
        "function:prvCheckTasksWaitingTermination -app",
        "function:prvAddCurrentTaskToDelayedList -app",
        "function:vApplicationStackOverflowHook -app",
        "function:vApplicationMallocFailedHook -app",
        "file:*/FreeRTOS/Source/* -app",
        "file:*FreeRTOS-Kernel/* -app",
    ],
)
_FREERTOS_PORT = (
    "FreeRTOS port",
    [
        "function:xPort* -app",
        "function:vPort* -app",
        "function:pxPort* -app",
        "function:ulPort* -app",
        "function:uxPort* -app",
        "function:prvPort* -app",
        "function:prvTaskExitError -app",
        "file:*/portable/* -app",
    ],
)
_ZEPHYR = (
    "Zephyr kernel",
    [
        "function:z_* -app",
        "function:arch_* -app",
        "function:k_* -app",
        "function:bg_thread_main -app",
        "function:irq_lock -app",
        "function:irq_unlock -app",
        "function:sys_dlist_* -app",
        "function:sys_slist_* -app",
        "file:*zephyr/kernel/* -app",
        "file:*zephyr/arch/* -app",
    ],
)
_FAULT_HANDLERS = (
    "CMSIS/vendor fault handler",
    [
        "function:HardFault_Handler* -app",
        "function:MemManage_Handler -app",
        "function:MemoryManagement_Handler -app",
        "function:BusFault_Handler -app",
        "function:UsageFault_Handler -app",
        "function:SecureFault_Handler -app",
        "function:NMI_Handler -app",
        "function:DebugMon_Handler -app",
        "function:Default_Handler -app",
        "function:hard_fault_handler* -app",
        "function:Reset_Handler -app",
        "function:SystemInit -app",
        "function:NVIC_SystemReset -app",
        "function:__NVIC_SystemReset -app",
    ],
)
_MEMFAULT = (
    "Memfault SDK fault handling",
    [
        "function:memfault_fault_handl* -app",
        "function:memfault_*assert* -app",
        "function:memfault_exception_handler -app",
        "function:memfault_arch_fault_handling_* -app",
        "function:memfault_coredump_* -app",
        "function:memfault_platform_coredump_* -app",
        "function:memfault_platform_halt_if_debugging -app",
        "function:memfault_platform_reboot* -app",
        "function:memfault_reboot_tracking_* -app",
        "file:*/memfault/panics/* -app",
        "file:*/components/panics/* -app",
    ],
)
_LIBC = (
    "C library assert/abort",
    [
        "function:__assert_func -app",
        "function:__assert -app",
        "function:__assert_fail -app",
        "function:__assert_no_args -app",
        "function:__aeabi_assert -app",
        "function:abort -app",
        "function:_exit -app",
        "function:raise -app",
        "function:_kill* -app",
    ],
)
_ASSERT_HOOKS = (
    "HAL assert hook",
    [
        "function:assert_failed -app",
        "function:vAssertCalled -app",
        "function:assert_post_action -app",
        "function:assert_print -app",
    ],
)

DEFAULT_APP_RULES: tuple[AppRule, ...] = tuple(
    AppRule.parse(line, label)
    for label, lines in (
        _FREERTOS,
        _FREERTOS_PORT,
        _ZEPHYR,
        _FAULT_HANDLERS,
        _MEMFAULT,
        _LIBC,
        _ASSERT_HOOKS,
    )
    for line in lines
)

# Where a thread's stack starts: the kernel function that calls a thread's entry function.
# Frames from here outwards are the kernel's, never the crash's.
THREAD_STARTS = frozenset({"z_thread_entry", "prvTaskExitError", "Reset_Handler", "_start"})
# A thread entry function by name: bare-metal `main`; what lies past it is startup code.
ENTRY_FUNCTIONS = frozenset({"main"})
