// Classes and templates of the C++ test firmware: what the crashes unwind through.
#ifndef DRE_CXX_SENSORS_HPP
#define DRE_CXX_SENSORS_HPP

#include <stdint.h>

namespace dre {
namespace sensors {

class Sensor {
public:
    explicit Sensor(uint32_t id) : id_(id) {}
    // An inline member function, defined in the class.
    uint32_t id() const { return id_; }
    virtual int32_t sample(uint32_t channel);

protected:
    ~Sensor() = default;
    uint32_t id_;
};

class Thermometer : public Sensor {
public:
    Thermometer(uint32_t id, volatile int32_t *reg);
    int32_t sample(uint32_t channel) override;  // defined out of class, in sensors.cpp
    void retarget(volatile int32_t *reg) { reg_ = reg; }

private:
    int32_t convert(int32_t raw) const;
    volatile int32_t *reg_;
    int32_t calibration_;
};

struct Reading {
    int32_t total;
    uint32_t count;
    Reading &operator+=(int32_t value);
};

template <typename T, unsigned N>
class RingBuffer {
public:
    void push(T value);
    T &operator[](unsigned index) { return items_[(head_ + index) % N]; }

private:
    T items_[N] = {};
    unsigned head_ = 0;
};

template <typename T, unsigned N>
void RingBuffer<T, N>::push(T value)
{
    head_ = (head_ + 1u) % N;
    items_[head_] = value;
}

}  // namespace sensors

// Holds a log slot and writes to it when it goes out of scope: a destructor in the bt.
class Journal {
public:
    explicit Journal(volatile uint32_t *slot);
    ~Journal();
    void note(uint32_t value) { pending_ += value; }

private:
    volatile uint32_t *slot_;
    uint32_t pending_;
};

}  // namespace dre

#endif
