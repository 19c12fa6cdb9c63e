/*
 * The port layer of the FreeRTOS replica: the GCC ARM_CM3 port on the an385 build and the
 * GCC ARM_CM4F port on the an386 build, with their exact initial stack and save order.
 *
 * Save area at a switched-out task's pxTopOfStack (cortex-m-unwinding.md 4.1):
 *   ARM_CM3:  r4 .. r11, then the basic hardware frame (r0 r1 r2 r3 r12 lr pc xPSR)
 *   ARM_CM4F: r4 .. r11, EXC_RETURN, s16 .. s31 only when EXC_RETURN bit 4 is 0, then the
 *             hardware frame (extended, with s0 .. s15 and FPSCR, when bit 4 is 0)
 *
 * The handlers are naked C functions with inline assembly, for the reason given in
 * src/fault_entry.c.
 */
#include "FreeRTOS.h"
#include "task.h"

#define portINITIAL_XPSR (0x01000000UL)
#define portINITIAL_EXC_RETURN (0xfffffffdUL)
#define portSTART_ADDRESS_MASK ((StackType_t)0xfffffffeUL)
#define portNVIC_SYSTICK_CTRL_REG (*((volatile uint32_t *)0xe000e010))
#define portNVIC_SYSTICK_LOAD_REG (*((volatile uint32_t *)0xe000e014))
#define portNVIC_SYSTICK_CURRENT_VALUE_REG (*((volatile uint32_t *)0xe000e018))
#define portNVIC_SHPR3_REG (*((volatile uint32_t *)0xe000ed20))
#define portNVIC_SYSTICK_CLK_BIT (1UL << 2UL)
#define portNVIC_SYSTICK_INT_BIT (1UL << 1UL)
#define portNVIC_SYSTICK_ENABLE_BIT (1UL << 0UL)
#define portNVIC_PENDSV_PRI (((uint32_t)configKERNEL_INTERRUPT_PRIORITY) << 16UL)
#define portNVIC_SYSTICK_PRI (((uint32_t)configKERNEL_INTERRUPT_PRIORITY) << 24UL)
#define portTASK_RETURN_ADDRESS prvTaskExitError

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static UBaseType_t uxCriticalNesting = 0xaaaaaaaa;

void xPortPendSVHandler(void);
void vPortSVCHandler(void);
void xPortSysTickHandler(void);

/* Where a task function that returns would go. Tasks must never return. */
static void prvTaskExitError(void)
{
    __asm volatile("cpsid i" ::: "memory");
    for (;;) {
    }
}

/*
 * The first context of a task, laid out exactly like a save area: it is restored by the
 * first switch to the task. pc = the task function, lr = prvTaskExitError, r0 = parameter.
 */
StackType_t *pxPortInitialiseStack(StackType_t *pxTopOfStack, TaskFunction_t pxCode,
                                   void *pvParameters)
{
    pxTopOfStack--; /* the word above the frame, left free as the port does */
    *pxTopOfStack = portINITIAL_XPSR;
    pxTopOfStack--;
    *pxTopOfStack = ((StackType_t)pxCode) & portSTART_ADDRESS_MASK; /* pc */
    pxTopOfStack--;
    *pxTopOfStack = (StackType_t)portTASK_RETURN_ADDRESS; /* lr */
    pxTopOfStack -= 5;                                     /* r12, r3, r2, r1 */
    *pxTopOfStack = (StackType_t)pvParameters;             /* r0 */
#if defined(__ARM_FP)
    pxTopOfStack--;
    *pxTopOfStack = portINITIAL_EXC_RETURN; /* no FPU context yet: basic frame */
#endif
    pxTopOfStack -= 8; /* r11 .. r4 */
    return pxTopOfStack;
}

void vPortEnterCritical(void)
{
    __asm volatile("msr basepri, %0\n\t"
                   "dsb\n\t"
                   "isb" ::"r"(configMAX_SYSCALL_INTERRUPT_PRIORITY)
                   : "memory");
    uxCriticalNesting++;
}

void vPortExitCritical(void)
{
    uxCriticalNesting--;
    if (uxCriticalNesting == 0) {
        __asm volatile("msr basepri, %0" ::"r"(0) : "memory");
    }
}

#if defined(__ARM_FP)
#define portFPCCR ((volatile uint32_t *)0xe000ef34)
#define portASPEN_AND_LSPEN_BITS (0x3UL << 30UL)

/* Full access to CP10 and CP11 (the FPU) in CPACR. Only the FPU ports have this function,
 * which is how debuggers (pyOCD) tell ARM_CM4F from ARM_CM3. */
static void __attribute__((naked)) vPortEnableVFP(void)
{
    __asm volatile("ldr.w r0, =0xE000ED88\n\t"
                   "ldr r1, [r0]\n\t"
                   "orr r1, r1, #(0xf << 20)\n\t"
                   "str r1, [r0]\n\t"
                   "bx r14\n\t"
                   ".ltorg");
}

/* ARM_CM4F: EXC_RETURN is saved with r4-r11; s16-s31 when the task has an FPU context
 * (vstmdb also completes a pending lazy stacking of s0-s15). */
#define portSAVE_CONTEXT                   \
    "tst r14, #0x10\n\t"                   \
    "it eq\n\t"                            \
    "vstmdbeq r0!, {s16-s31}\n\t"          \
    "stmdb r0!, {r4-r11, r14}\n\t"
#define portRESTORE_CONTEXT                \
    "ldmia r0!, {r4-r11, r14}\n\t"         \
    "tst r14, #0x10\n\t"                   \
    "it eq\n\t"                            \
    "vldmiaeq r0!, {s16-s31}\n\t"
#define portRESTORE_FIRST_CONTEXT "ldmia r0!, {r4-r11, r14}\n\t"
#define portCLEAR_FPCA "mov r0, #0\n\tmsr control, r0\n\t"
#else
#define portSAVE_CONTEXT "stmdb r0!, {r4-r11}\n\t"
#define portRESTORE_CONTEXT "ldmia r0!, {r4-r11}\n\t"
#define portRESTORE_FIRST_CONTEXT \
    "ldmia r0!, {r4-r11}\n\t"     \
    "orr r14, #0xd\n\t" /* Thread mode, PSP */
#define portCLEAR_FPCA ""
#endif

void __attribute__((naked)) xPortPendSVHandler(void)
{
    __asm volatile("mrs r0, psp\n\t"
                   "isb\n\t"
                   "ldr r3, =pxCurrentTCB\n\t"
                   "ldr r2, [r3]\n\t"
                   portSAVE_CONTEXT
                   "str r0, [r2]\n\t" /* pxCurrentTCB->pxTopOfStack */
                   "push {r3, r14}\n\t"
                   ".cfi_adjust_cfa_offset 8\n\t"
                   ".cfi_rel_offset lr, 4\n\t"
                   "mov r0, #" STRINGIFY(configMAX_SYSCALL_INTERRUPT_PRIORITY) "\n\t"
                   "msr basepri, r0\n\t"
                   "dsb\n\t"
                   "isb\n\t"
                   "bl vTaskSwitchContext\n\t"
                   "mov r0, #0\n\t"
                   "msr basepri, r0\n\t"
                   "pop {r3, r14}\n\t"
                   ".cfi_adjust_cfa_offset -8\n\t"
                   ".cfi_restore lr\n\t"
                   "ldr r1, [r3]\n\t"
                   "ldr r0, [r1]\n\t"
                   portRESTORE_CONTEXT
                   "msr psp, r0\n\t"
                   "isb\n\t"
                   "bx r14\n\t"
                   ".ltorg");
}

/* Start the first task: restore its initial context and return to it on PSP. */
void __attribute__((naked)) vPortSVCHandler(void)
{
    __asm volatile("ldr r3, =pxCurrentTCB\n\t"
                   "ldr r1, [r3]\n\t"
                   "ldr r0, [r1]\n\t"
                   portRESTORE_FIRST_CONTEXT
                   "msr psp, r0\n\t"
                   "isb\n\t"
                   "mov r0, #0\n\t"
                   "msr basepri, r0\n\t"
                   "bx r14\n\t"
                   ".ltorg");
}

/* Reset MSP to its initial value (boot code never runs again), then SVC. The port reads it
 * from the vector table through VTOR; here the table lies in the no-access NULL guard
 * (src/link.ld), so take the same value from the linker symbol. */
static void __attribute__((naked, noreturn)) prvPortStartFirstTask(void)
{
    __asm volatile("ldr r0, =__msp_top\n\t"
                   "msr msp, r0\n\t"
                   portCLEAR_FPCA
                   "cpsie i\n\t"
                   "cpsie f\n\t"
                   "dsb\n\t"
                   "isb\n\t"
                   "svc 0\n\t"
                   "nop\n\t"
                   ".ltorg");
}

BaseType_t xPortStartScheduler(void)
{
    portNVIC_SHPR3_REG |= portNVIC_PENDSV_PRI | portNVIC_SYSTICK_PRI;
    portNVIC_SYSTICK_CTRL_REG = 0UL;
    portNVIC_SYSTICK_CURRENT_VALUE_REG = 0UL;
    portNVIC_SYSTICK_LOAD_REG = (configCPU_CLOCK_HZ / configTICK_RATE_HZ) - 1UL;
    portNVIC_SYSTICK_CTRL_REG =
        portNVIC_SYSTICK_CLK_BIT | portNVIC_SYSTICK_INT_BIT | portNVIC_SYSTICK_ENABLE_BIT;
    uxCriticalNesting = 0;
#if defined(__ARM_FP)
    vPortEnableVFP();
    *(portFPCCR) |= portASPEN_AND_LSPEN_BITS; /* lazy stacking of s0-s15, as at reset */
#endif
    prvPortStartFirstTask();
}

void xPortSysTickHandler(void)
{
    __asm volatile("msr basepri, %0" ::"r"(configMAX_SYSCALL_INTERRUPT_PRIORITY) : "memory");
    if (xTaskIncrementTick() != pdFALSE) {
        portNVIC_INT_CTRL_REG = portNVIC_PENDSVSET_BIT;
    }
    __asm volatile("msr basepri, %0" ::"r"(0) : "memory");
}
