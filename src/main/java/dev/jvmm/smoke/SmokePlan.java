package dev.jvmm.smoke;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How each smoke boot runs: {@code command} starts jvmm (java -jar …), {@code extra} goes after
 * `boot IMAGE` (--lab=…), scratch copies go under {@code workDir}.
 */
public record SmokePlan(List<String> command, int timeoutSeconds, String exec, Pattern expect, boolean inPlace,
                        List<String> extra, Path workDir) {
    public SmokePlan {
        command = List.copyOf(command);
        extra = List.copyOf(extra);
    }
}
