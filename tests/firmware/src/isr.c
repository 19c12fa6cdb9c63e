/*
 * irq_fault: the TIMER1 interrupt, pended by software from a thread, records a sample
 * through a missing channel pointer. The fault is taken on MSP on top of the ISR, whose own
 * exception frame is on the thread's PSP: two exception frames in one backtrace.
 */
#include "isr.h"

#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define SCENARIO_IRQ_PRIORITY 0x80u /* below the faults (0), above PendSV/SysTick */

struct isr_channel {
    uint32_t count;
    uint32_t last_value;
};

void Timer1_IRQHandler(void);

static struct isr_channel s_channel0;
static struct isr_channel *volatile s_isr_channels[2] = {&s_channel0, NULL};
static uint32_t s_isr_samples;
static volatile uint32_t s_isr_entries;
volatile uint32_t g_isr_channel_select = 1;

static void __attribute__((noinline)) isr_channel_record(struct isr_channel *channel,
                                                         uint32_t value)
{
    channel->count++;
    channel->last_value = value;
}

static void __attribute__((noinline)) isr_process(uint32_t channel_index)
{
    uint32_t sample = s_isr_samples++;

    isr_channel_record(s_isr_channels[channel_index & 1u], sample * 3u);
}

void Timer1_IRQHandler(void)
{
    isr_process(g_isr_channel_select);
    s_isr_entries++;
}

void __attribute__((noinline)) isr_trigger(void)
{
    NVIC_IPR_BYTE(BOARD_SCENARIO_IRQ) = SCENARIO_IRQ_PRIORITY;
    NVIC_ISER0 = 1u << BOARD_SCENARIO_IRQ;
    NVIC_STIR = BOARD_SCENARIO_IRQ;
    /* The interrupt is taken here, while this thread is on PSP. */
    barrier_dsb_isb();
    s_isr_entries++;
}
