CREATE TABLE `networks` (
    `id` char(36) NOT NULL,
    `created_at` DATETIME NOT NULL,
    `updated_at` DATETIME NOT NULL,
    PRIMARY KEY(`id`)
) ENGINE=InnoDB;
