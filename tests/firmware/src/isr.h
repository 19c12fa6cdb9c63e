#ifndef DRE_ISR_H
#define DRE_ISR_H

void isr_trigger(void);

#endif
