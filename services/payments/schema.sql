-- Payments keeps only the kernel's tables until the lifecycle issue gives it its commands.
SELECT 1;
