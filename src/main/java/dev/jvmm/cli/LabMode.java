package dev.jvmm.cli;

/** Whether to run inside the nested lab: when needed (auto), always, or never. */
public enum LabMode {
    auto, always, never
}
