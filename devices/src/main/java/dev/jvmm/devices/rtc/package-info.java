/**
 * Real-time clocks: the Arm PL031 that arm64 guests read their time from. Depends on
 * dev.jvmm.vmm.bus.
 */
package dev.jvmm.devices.rtc;
