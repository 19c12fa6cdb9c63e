// Out-of-class member definitions, a constructor and a destructor that fault.
#include "sensors.hpp"

namespace dre {
namespace sensors {

int32_t Sensor::sample(uint32_t channel)
{
    return static_cast<int32_t>(id_ + channel);
}

Thermometer::Thermometer(uint32_t id, volatile int32_t *reg) : Sensor(id), reg_(reg)
{
    // Reads the register at construction: faults when it is in the no-access page.
    calibration_ = reg_[0];
}

int32_t Thermometer::convert(int32_t raw) const
{
    return (raw - calibration_) * 10 / 16;
}

int32_t __attribute__((noinline)) Thermometer::sample(uint32_t channel)
{
    int32_t raw = reg_[channel];
    return convert(raw);
}

Reading &Reading::operator+=(int32_t value)
{
    total += value;
    count++;
    return *this;
}

}  // namespace sensors

Journal::Journal(volatile uint32_t *slot) : slot_(slot), pending_(0) {}

Journal::~Journal()
{
    *slot_ = pending_;
}

}  // namespace dre
