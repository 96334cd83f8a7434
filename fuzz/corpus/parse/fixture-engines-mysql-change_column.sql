ALTER TABLE users CHANGE fullname full_name VARCHAR(200) NOT NULL;
