DROP PROCEDURE IF EXISTS add_x_policy_ref_table;
DELIMITER ;;
CREATE PROCEDURE add_x_policy_ref_table() BEGIN
  IF NOT EXISTS (SELECT * FROM information_schema.columns WHERE table_schema=database() AND table_name = 'x_policy_ref_resource') THEN
    CREATE TABLE x_policy_ref_resource (
      id BIGINT(20) NOT NULL AUTO_INCREMENT,
      policy_id BIGINT(20) NOT NULL,
      PRIMARY KEY (id)
    ) ROW_FORMAT=DYNAMIC;
  END IF;
END;;
DELIMITER ;
CALL add_x_policy_ref_table();
