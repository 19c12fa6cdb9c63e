/*
 * Registers of the two QEMU boards (mps2-an385: Cortex-M3, mps2-an386: Cortex-M4F).
 * Addresses: ARMv7-M Architecture Reference Manual (DDI 0403E), B3.2 (SCB), B3.3 (SysTick),
 * B3.4 (NVIC), B3.5 (MPU); the UART is the CMSDK APB UART of the MPS2 FPGA images.
 */
#ifndef DRE_BOARD_H
#define DRE_BOARD_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))

#if defined(__ARM_FP)
#define DRE_HAS_FPU 1
#else
#define DRE_HAS_FPU 0
#endif

#ifndef DRE_BOARD_NAME
#error "DRE_BOARD_NAME must be set by the Makefile"
#endif

/* System Control Block */
#define SCB_ICSR REG32(0xE000ED04)
#define SCB_ICSR_PENDSVSET (1u << 28)
#define SCB_CCR REG32(0xE000ED14)
#define SCB_CCR_DIV_0_TRP (1u << 4)
#define SCB_SHPR2 REG32(0xE000ED1C)
#define SCB_SHPR3 REG32(0xE000ED20)
#define SCB_SHCSR REG32(0xE000ED24)
#define SCB_SHCSR_MEMFAULTENA (1u << 16)
#define SCB_SHCSR_BUSFAULTENA (1u << 17)
#define SCB_SHCSR_USGFAULTENA (1u << 18)
#define SCB_CPACR REG32(0xE000ED88)

/* SysTick */
#define SYST_CSR REG32(0xE000E010)
#define SYST_RVR REG32(0xE000E014)
#define SYST_CVR REG32(0xE000E018)

/* NVIC */
#define NVIC_ISER0 REG32(0xE000E100)
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(0xE000E400u + (irq)))
#define NVIC_STIR REG32(0xE000EF00)

/* MPU (PMSAv7, 8 regions on both boards) */
#define MPU_CTRL REG32(0xE000ED94)
#define MPU_RNR REG32(0xE000ED98)
#define MPU_RBAR REG32(0xE000ED9C)
#define MPU_RASR REG32(0xE000EDA0)

/* CMSDK APB UART0 */
#define UART0_DATA REG32(0x40004000)
#define UART0_STATE REG32(0x40004004)
#define UART0_CTRL REG32(0x40004008)
#define UART0_BAUDDIV REG32(0x40004010)

/* Core clock of both FPGA images as QEMU models them (SYSCLK, 25 MHz). */
#define BOARD_CORE_CLOCK_HZ 25000000u

/* External interrupt used by the irq_fault scenario: TIMER1 on AN385/AN386. Nothing in the
 * firmware enables the timer itself; the scenario pends the interrupt by software. */
#define BOARD_SCENARIO_IRQ 9u

static inline void barrier_dsb_isb(void)
{
    __asm volatile("dsb\n\tisb" ::: "memory");
}

#endif
