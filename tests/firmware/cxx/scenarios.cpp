// The C++ scenarios, run by app.c's main_thread through scenario_run like the C ones.
#include "sensors.hpp"

extern "C" {
#include "scenarios.h"
#include "uart.h"
}

// In .noinit like the C firmware's: the harness writes it while QEMU is halted at reset.
volatile uint32_t g_scenario __attribute__((section(".noinit")));

namespace {

// The MPU's no-access region at address 0 (see the C firmware's README).
int32_t *volatile s_sensor_register = reinterpret_cast<int32_t *>(0x8);
volatile int32_t s_valid_register[4];
uint32_t *volatile s_journal_slot = reinterpret_cast<uint32_t *>(0x18);
volatile int32_t s_sink;

template <typename F>
int32_t __attribute__((noinline)) for_each_channel(uint32_t channels, F visit)
{
    int32_t sum = 0;
    for (uint32_t channel = 0; channel < channels; channel++) {
        sum += visit(channel);
    }
    return sum;
}

template <typename S>
dre::sensors::Reading __attribute__((noinline)) poll(S &sensor, uint32_t channels)
{
    dre::sensors::Reading reading = {0, 0};
    dre::sensors::RingBuffer<int32_t, 4> history;
    for_each_channel(channels, [&](uint32_t channel) {
        int32_t value = sensor.sample(channel);
        history.push(value);
        reading += value;
        return value;
    });
    s_sink = history[0];
    return reading;
}

void __attribute__((noinline)) scenario_virtual_call()
{
    dre::sensors::Thermometer thermometer(7u, s_valid_register);
    dre::sensors::Sensor &sensor = thermometer;
    s_sink = sensor.id();
    thermometer.retarget(s_sensor_register);
    dre::sensors::Reading reading = poll(sensor, 3u);
    s_sink = reading.total;
}

void __attribute__((noinline)) scenario_constructor()
{
    dre::sensors::Thermometer thermometer(3u, s_sensor_register);
    s_sink = thermometer.sample(0);
}

void __attribute__((noinline)) scenario_destructor()
{
    dre::Journal journal(s_journal_slot);
    journal.note(5u);
    s_sink = 1;
}

struct Scenario {
    const char *name;
    void (*run)();
};

const Scenario k_scenarios[] = {
    {nullptr, nullptr},
    {"virtual_call", scenario_virtual_call},
    {"constructor", scenario_constructor},
    {"destructor", scenario_destructor},
};

}  // namespace

extern "C" void scenario_run(uint32_t id)
{
    if (id == 0 || id >= sizeof(k_scenarios) / sizeof(k_scenarios[0])) {
        uart_puts("main: no scenario selected\n");
        return;
    }
    uart_puts("scenario: ");
    uart_puts(k_scenarios[id].name);
    uart_puts("\n");
    k_scenarios[id].run();
    uart_puts("scenario: returned without a fault\n");
}
