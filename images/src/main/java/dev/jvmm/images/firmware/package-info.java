/**
 * jvmm as the firmware and boot loader of a container-OS disk: one firmware pass reads the GPT,
 * chooses a slot by the layout's own A/B rule, writes the tries decrement and hands back the
 * kernel, its command line and the sectors to fence. May depend on {@code dev.jvmm.boot} (GPT,
 * A/B rules, ext4, GRUB, kernel formats) and {@code dev.jvmm.images.disk} (layouts, KERN header);
 * knows nothing of KVM or devices.
 */
package dev.jvmm.images.firmware;
