/**
 * The host's side of the container OS's guest agent (jvmm-agent.c in the images module), over
 * virtio-vsock in Firecracker's hybrid Unix-socket model: {@link dev.jvmm.agent.AgentClient} asks
 * the agent on guest port 1024, {@link dev.jvmm.agent.ReadyListener} hears the guest's readiness
 * on host port 1025. Independent of the machine code, so the VM run loop and {@code jvmm ctl} can both use it.
 */
package dev.jvmm.agent;
